fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::onboards::onboards::get) }
