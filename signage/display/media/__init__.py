"""The board's media area: the shells around signage.core.content.

    cache.py    the display's bounded local copy of content files, addressed by SHA-256
    sync.py     a thread that fetches manifests and files from the hub into the cache
    video.py    PyAV decoding in a worker thread, frame-timed presentation
    audio.py    a video's sound through the mixer, lowered while the board announces
    stills.py   images and generated slides, prepared off the display loop
    player.py   what plays when, preloading, skipping what fails, painting around overlays

The display loop (signage.display.app) drives the player; nothing here touches the network
except sync.py, and nothing blocks the loop.
"""
