"""Take it or erase it: a person's data exported as one ZIP, an account erased, chats kept only as long as the
university says (docs/identity.md)."""
