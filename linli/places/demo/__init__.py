"""The deterministic demo district (涪城区): pure geography, its loader, and the demo people."""
