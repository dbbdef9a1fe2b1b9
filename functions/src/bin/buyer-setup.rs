fn main() -> shared::lambda::Exit { shared::lambda::serve_events(functions::onboards::buyer_setup::consume_queue) }
