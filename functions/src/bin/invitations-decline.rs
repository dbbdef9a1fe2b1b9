fn main() -> shared::lambda::Exit { shared::lambda::serve(functions::partners::invitations::decline) }
