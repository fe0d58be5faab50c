"""The example hall shipped inside the package (MPP Kabupaten Pandeglang): config.yaml and its assets.

`signage init` starts a new hall from it (with fresh tokens); `signage demo` runs it when
there is no config.yaml where it starts. A copy of the repository's config.yaml and
assets/; tests/unit/test_packaging.py keeps them identical.
"""
