fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::client_onboarding::webhook_endpoints::delete) }
