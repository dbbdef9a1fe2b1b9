fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::people::sign_out) }
