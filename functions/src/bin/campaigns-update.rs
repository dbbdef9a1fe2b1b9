fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::client_onboarding::campaigns::update) }
