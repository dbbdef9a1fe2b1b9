fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::provider_webhooks::verification_sessions::create) }
