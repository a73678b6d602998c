"""The HTTP layer: Litestar app factory and thin controllers. Only this package imports Litestar."""
