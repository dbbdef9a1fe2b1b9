fn main() -> shared::platform::lambda::Exit { shared::platform::lambda::serve(functions::partners::invitations::claim_page) }
