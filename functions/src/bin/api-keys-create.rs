fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::account::create_key) }
