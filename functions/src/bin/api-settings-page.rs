fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::people::api_settings_page) }
