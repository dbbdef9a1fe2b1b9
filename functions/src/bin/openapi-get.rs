fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::docs::openapi) }
