fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::provider_webhooks::verification_sessions::get) }
