package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.impl.BatchMessageIdImpl;
import org.apache.pulsar.client.impl.MessageIdImpl;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MessagePositionTest {

    @Test
    void isTheLedgerAndEntryOfAMessageAlsoInABatch() {
        assertThat(MessagePosition.of(new MessageIdImpl(12, 7, 1))).contains(new MessagePosition(12, 7));
        assertThat(MessagePosition.of(new BatchMessageIdImpl(12, 7, 1, 3))).contains(new MessagePosition(12, 7));
    }

    @Test
    void isNoneForIdsThatNameNoStoredMessage() {
        assertThat(MessagePosition.of(MessageId.earliest)).isEmpty();
        assertThat(MessagePosition.of(MessageId.latest)).isEmpty();
        assertThat(MessagePosition.of(new MessageIdImpl(12, -1, 0))).isEmpty();
    }
}
