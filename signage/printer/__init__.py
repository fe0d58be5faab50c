"""The kiosk's ticket printer agent: `signage printer --kiosk NAME --device URI`."""
