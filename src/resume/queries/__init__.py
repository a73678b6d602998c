"""All SQL, one module per noun. Functions take the connection first and return Structs."""
