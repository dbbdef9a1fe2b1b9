fn main() -> shared::lambda::Exit { shared::lambda::serve_events(functions::client_onboarding::webhook_deliveries::consume_queue) }
