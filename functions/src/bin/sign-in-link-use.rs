fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::people::use_link) }
