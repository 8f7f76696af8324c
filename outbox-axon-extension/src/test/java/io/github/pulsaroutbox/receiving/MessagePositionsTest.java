package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.MessageIdAdv;
import org.apache.pulsar.client.impl.BatchMessageIdImpl;
import org.apache.pulsar.client.impl.ChunkMessageIdImpl;
import org.apache.pulsar.client.impl.MessageIdImpl;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MessagePositionsTest {

    private static MessageIdAdv previousEntry(MessageId id) {
        return (MessageIdAdv) MessagePositions.previousEntry(id).orElseThrow();
    }

    @Test
    void isThePreviousEntryOfTheLedgerBeforeAnyMessageOfThatEntry() {
        MessageIdAdv before = previousEntry(new MessageIdImpl(12, 7, 1));

        assertThat(before.getLedgerId()).isEqualTo(12);
        assertThat(before.getEntryId()).isEqualTo(6);
        assertThat(before.getPartitionIndex()).isEqualTo(1);
        assertThat(before.getBatchIndex()).as("not a batch position").isEqualTo(-1);
        assertThat(before).isLessThan(new MessageIdImpl(12, 7, 1)).isLessThan(new BatchMessageIdImpl(12, 6, 1, 0));
    }

    @Test
    void ofAMessageInABatchIsTheEntryBeforeTheBatch() {
        assertThat(previousEntry(new BatchMessageIdImpl(12, 7, 0, 3)).getEntryId()).isEqualTo(6);
    }

    @Test
    void ofALedgersFirstEntryIsItsStart() {
        MessageIdAdv before = previousEntry(new MessageIdImpl(12, 0, 0));

        assertThat(before.getLedgerId()).isEqualTo(12);
        assertThat(before.getEntryId()).isEqualTo(-1);
        assertThat(MessagePositions.stored(before)).isFalse();
    }

    @Test
    void ofAChunkedMessageIsTheEntryBeforeItsFirstChunk() {
        MessageId chunked = new ChunkMessageIdImpl(new MessageIdImpl(12, 4, 0), new MessageIdImpl(12, 6, 0));

        assertThat(previousEntry(chunked).getEntryId()).isEqualTo(3);
    }

    @Test
    void survivesTheTokensEncoding() {
        MessageId before = MessagePositions.previousEntry(new MessageIdImpl(12, 7, 0)).orElseThrow();

        PulsarTrackingToken token = PulsarTrackingToken.start().advancedTo("t-partition-0", before);

        assertThat(token.position("t-partition-0")).contains(before);
    }

    @Test
    void namesNoPositionBeforeAnIdWithoutLedgerCoordinates() {
        assertThat(MessagePositions.previousEntry(MessageId.earliest)).isEmpty();
        assertThat(MessagePositions.stored(MessageId.earliest)).isFalse();
        assertThat(MessagePositions.stored(new MessageIdImpl(3, 0, -1))).isTrue();
    }
}
