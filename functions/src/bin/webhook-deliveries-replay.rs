fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::client_onboarding::webhook_deliveries::replay) }
