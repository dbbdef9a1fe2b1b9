fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve_events(functions::stream::route) }
