fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::account::update_notification_settings) }
