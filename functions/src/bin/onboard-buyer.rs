fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::onboards::buyer_setup::run_now) }
