fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::people::webhook_settings_page) }
