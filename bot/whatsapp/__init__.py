"""The WhatsApp channel, on Twilio's API through the twilio library."""
