"""The people pages (server-rendered): register, care and stewards."""
