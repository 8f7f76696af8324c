package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.MessageId;

import java.util.Optional;

/**
 * Where a message is stored in its partition: the ledger and the entry (a batch's messages share one entry). For
 * arithmetic on positions, such as how many entries of a partition lie after a {@link PulsarTrackingToken}'s position
 * (the receiving lag), with the client's API alone.
 *
 * @param ledgerId the ledger
 * @param entryId  the entry within the ledger
 */
public record MessagePosition(long ledgerId, long entryId) {

    /** The position of {@code messageId}; empty for an id that names no stored message (earliest, latest). */
    public static Optional<MessagePosition> of(MessageId messageId) {
        long[] ledgerEntry = MessagePositions.ledgerEntry(messageId);
        boolean none = ledgerEntry[0] < 0 || ledgerEntry[1] < 0 || ledgerEntry[0] == Long.MAX_VALUE;
        return none ? Optional.empty()
                : Optional.of(new MessagePosition(ledgerEntry[0], ledgerEntry[1]));
    }
}
