package io.github.pulsaroutbox.benchmark.peers;

/**
 * One row a peer library stores and sends: the same key, JSON and size as the extension's benchmark rows
 * ({@code Payloads} in the benchmark module). {@code row} identifies it to the {@link PeerSink}.
 */
public record PeerEvent(String accountId, int row, String json) {

    static PeerEvent of(int row, int aggregates, int payloadBytes) {
        String accountId = "a-" + (row % aggregates);
        String head = "{\"accountId\":\"" + accountId + "\",\"amount\":" + row + ",\"note\":\"";
        StringBuilder json = new StringBuilder(payloadBytes + 16).append(head);
        while (json.length() < payloadBytes - 2) {
            json.append((char) ('a' + (json.length() % 26)));
        }
        return new PeerEvent(accountId, row, json.append("\"}").toString());
    }
}
