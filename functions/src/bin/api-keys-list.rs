fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::account::list_keys) }
