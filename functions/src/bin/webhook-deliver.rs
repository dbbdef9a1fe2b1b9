fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve_events(functions::client_onboarding::webhook_deliveries::consume_queue) }
