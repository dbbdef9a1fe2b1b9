fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve_events(functions::leads::delivery::consume_queue) }
