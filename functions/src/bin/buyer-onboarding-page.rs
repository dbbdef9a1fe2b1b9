fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::onboards::onboards::buyer_onboarding_page) }
