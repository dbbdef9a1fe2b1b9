fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::client_onboarding::campaigns::publish) }
