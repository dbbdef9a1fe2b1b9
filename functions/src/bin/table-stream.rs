fn main() -> shared::lambda::Exit { shared::lambda::serve_events(functions::stream::route) }
