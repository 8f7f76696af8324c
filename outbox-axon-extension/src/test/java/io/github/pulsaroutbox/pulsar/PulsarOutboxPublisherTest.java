package io.github.pulsaroutbox.pulsar;

import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.FailureKind;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;

class PulsarOutboxPublisherTest {

    private final PulsarOutboxPublisher publisher =
            PulsarOutboxPublisher.builder().pulsarClient(mock(PulsarClient.class)).build();

    @Test
    void classifiesPulsarFailuresByWhatRetryingCanDo() {
        assertThat(publisher.classify(new PulsarClientException.TimeoutException("slow")))
                .isEqualTo(FailureKind.TIMEOUT);
        assertThat(publisher.classify(new CompletionException(
                new PulsarClientException.AuthorizationException("no"))))
                .isEqualTo(FailureKind.REFUSED);
        assertThat(publisher.classify(new PulsarClientException.AuthenticationException("who")))
                .isEqualTo(FailureKind.REFUSED);
        assertThat(publisher.classify(new PulsarClientException.TopicTerminatedException("done")))
                .isEqualTo(FailureKind.REFUSED);
        assertThat(publisher.classify(new PulsarClientException.TopicDoesNotExistException("gone")))
                .isEqualTo(FailureKind.UNKNOWN_TOPIC);
        assertThat(publisher.classify(new PulsarClientException.InvalidMessageException(
                "Message size is bigger than 5242880 bytes")))
                .isEqualTo(FailureKind.MESSAGE_TOO_LARGE);
        assertThat(publisher.classify(new PulsarClientException.ConnectException("reset")))
                .isEqualTo(FailureKind.TRANSIENT);
    }

    @Test
    void requiresAClient() {
        assertThatThrownBy(() -> PulsarOutboxPublisher.builder().build())
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("PulsarClient");
    }
}
