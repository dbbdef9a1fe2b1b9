fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::people::dashboard_page) }
