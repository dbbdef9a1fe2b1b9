fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::provider_webhooks::integrations::create) }
