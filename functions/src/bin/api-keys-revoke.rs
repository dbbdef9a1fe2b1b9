fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::account::revoke_key) }
