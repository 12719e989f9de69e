"""The pure core: what to send, what a response means, whether to retry.

Nothing here imports aiohttp, anyio or asyncio, sleeps, or reads a clock it was not handed; a test enforces it.
"""
