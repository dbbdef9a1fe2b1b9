fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::account::notification_settings) }
