fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::onboards::buyer_setup::run_now) }
