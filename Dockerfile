# l2tpsecd container image: a static binary in a minimal image.
#
#   docker build -t l2tpsecd .
#   docker run --cap-add NET_ADMIN --cap-add NET_RAW --device /dev/net/tun \
#     -p 500:500/udp -p 4500:4500/udp \
#     -v /etc/l2tpsecd:/etc/l2tpsecd:ro -v l2tpsecd-state:/var/lib/l2tpsecd l2tpsecd
#
# Raw ESP (IP protocol 50) cannot be published as a port: run with
# --network host, or rely on NAT traversal (UDP/4500), which every client
# uses when the server is behind NAT, as a container usually is.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN scripts/build-static.sh /out "$VERSION"

FROM scratch AS run
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/ /usr/local/bin/
COPY deploy/l2tpsecd.toml /etc/l2tpsecd/l2tpsecd.toml
# The daemon needs CAP_NET_ADMIN (TUN, routes), CAP_NET_RAW (raw ESP) and
# CAP_NET_BIND_SERVICE (ports 500/4500); grant them with --cap-add.
EXPOSE 500/udp 4500/udp 9810/tcp
VOLUME ["/var/lib/l2tpsecd"]
ENTRYPOINT ["/usr/local/bin/l2tpsecd"]
CMD ["-config", "/etc/l2tpsecd/l2tpsecd.toml"]
