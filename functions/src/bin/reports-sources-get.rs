fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::leads::reports::source) }
