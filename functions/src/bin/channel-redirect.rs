fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::provider_webhooks::channels::redirect) }
