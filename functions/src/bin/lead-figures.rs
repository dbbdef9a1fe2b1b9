fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve_events(functions::leads::figures::count) }
