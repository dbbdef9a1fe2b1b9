fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve_events(functions::onboards::buyer_setup::consume_queue) }
