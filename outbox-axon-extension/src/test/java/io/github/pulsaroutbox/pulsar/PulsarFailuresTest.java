package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.FailureKind;
import org.apache.pulsar.client.api.PulsarClientException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@link PulsarFailures} makes of the client's failures (the kinds of each are asserted in
 * {@code PulsarOutboxPublisherTest}, against a real client where the client decides what it throws).
 */
class PulsarFailuresTest {

    @Nested
    class NeverSent {

        @Test
        void theClientsOwnRefusalsNeverReachedTheBroker() {
            assertThat(PulsarFailures.neverSent(new CompletionException(
                    new PulsarClientException.InvalidMessageException("too big")))).isTrue();
            assertThat(PulsarFailures.neverSent(new PulsarClientException.ProducerQueueIsFullError("full"))).isTrue();
            assertThat(PulsarFailures.neverSent(new PulsarClientException.MemoryBufferIsFullError("limit"))).isTrue();
            assertThat(PulsarFailures.neverSent(new PulsarClientException.AlreadyClosedException("closed"))).isTrue();
        }

        @Test
        void aTimeOutOrALostConnectionMayHaveBeenStored() {
            assertThat(PulsarFailures.neverSent(new PulsarClientException.TimeoutException("slow"))).isFalse();
            assertThat(PulsarFailures.neverSent(new PulsarClientException.ConnectException("reset"))).isFalse();
        }
    }

    @Nested
    class ProducerIsGone {

        @Test
        void closedFencedAndTerminatedProducersNeverSendAgain() {
            assertThat(PulsarFailures.producerIsGone(new PulsarClientException.AlreadyClosedException("x"))).isTrue();
            assertThat(PulsarFailures.producerIsGone(new CompletionException(
                    new PulsarClientException.ProducerFencedException("x")))).isTrue();
            assertThat(PulsarFailures.producerIsGone(new PulsarClientException.TopicTerminatedException("x")))
                    .isTrue();
            assertThat(PulsarFailures.producerIsGone(new PulsarClientException.TimeoutException("x"))).isFalse();
        }
    }

    @Nested
    class TimeOuts {

        @Test
        void theClientsTimeOutAndThePublishersOwnBoundAreBothTimeOutsRetriedUntilTheBrokerAnswers() {
            assertThat(PulsarFailures.classify(new PulsarClientException.TimeoutException("x")))
                    .isEqualTo(io.github.pulsaroutbox.FailureKind.TIMEOUT);
            // CompletableFuture#orTimeout on producer creation: a plain TimeoutException, wrapped
            assertThat(PulsarFailures.classify(new CompletionException(new java.util.concurrent.TimeoutException())))
                    .isEqualTo(io.github.pulsaroutbox.FailureKind.TIMEOUT);
        }
    }

    @Nested
    class Unwrap {

        @Test
        void theCauseIsFoundBehindTheWrappersOfFutures() {
            PulsarClientException cause = new PulsarClientException.LookupException("no broker");
            assertThat(PulsarFailures.unwrap(new CompletionException(new ExecutionException(cause))))
                    .isSameAs(cause);
            assertThat(PulsarFailures.classify(new CompletionException(new ExecutionException(cause))))
                    .isEqualTo(FailureKind.UNAVAILABLE);
        }

        @Test
        void aConnectionRefusedDeepInTheChainIsAnOutage() {
            assertThat(PulsarFailures.classify(new PulsarClientException(new RuntimeException(
                    new java.net.ConnectException("Connection refused"))))).isEqualTo(FailureKind.UNAVAILABLE);
        }
    }
}
