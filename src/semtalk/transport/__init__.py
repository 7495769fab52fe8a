"""The live call's transport: UDP sockets, SRTP, pcap capture and the impairment relay (the only sockets)."""
