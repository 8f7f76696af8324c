package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.pulsar.DeduplicationSettings;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.springframework.pulsar.core.PulsarAdministration;

import java.util.Optional;

/**
 * Deduplication settings read with the application's {@link PulsarAdministration}, so with its admin URL,
 * authentication and TLS ({@code spring.pulsar.admin.*}): the topic's applied setting; for a topic that does not exist
 * yet its namespace's policy, else the broker's {@code brokerDeduplicationEnabled}. One admin client serves a check
 * of all topics ({@link #open}).
 */
final class PulsarAdminDeduplicationSettings implements DeduplicationSettings {

    private final PulsarAdministration administration;
    private final String adminUrl;

    PulsarAdminDeduplicationSettings(PulsarAdministration administration, String adminUrl) {
        this.administration = administration;
        this.adminUrl = adminUrl;
    }

    @Override
    public Optional<Boolean> applied(String topic) throws Exception {
        try (Reader reader = open()) {
            return reader.applied(topic);
        }
    }

    /** One admin client for a check of all topics, closed with the reader. */
    @Override
    public Reader open() throws org.apache.pulsar.client.api.PulsarClientException {
        PulsarAdmin admin = administration.createAdminClient();
        return new Reader() {
            @Override
            public Optional<Boolean> applied(String topic) throws PulsarAdminException {
                return PulsarAdminDeduplicationSettings.applied(admin, topic);
            }

            @Override
            public void close() {
                admin.close();
            }
        };
    }

    private static Optional<Boolean> applied(PulsarAdmin admin, String topic) throws PulsarAdminException {
        try {
            return Optional.ofNullable(admin.topicPolicies().getDeduplicationStatus(topic, true));
        } catch (PulsarAdminException.NotFoundException | PulsarAdminException.NotAllowedException notTopicLevel) {
            // no such topic yet, or topic-level policies disabled: the namespace's setting, else the broker's
            String[] path = topic.split("://", 2)[1].split("/");
            Boolean ofNamespace = admin.namespaces().getDeduplicationStatus(path[0] + "/" + path[1]);
            if (ofNamespace != null) {
                return Optional.of(ofNamespace);
            }
            String ofBroker = admin.brokers().getRuntimeConfigurations().get("brokerDeduplicationEnabled");
            return ofBroker == null ? Optional.empty() : Optional.of(Boolean.parseBoolean(ofBroker));
        }
    }

    @Override
    public String describe() {
        return "the application's Pulsar admin client, spring.pulsar.admin.service-url=" + adminUrl;
    }
}
