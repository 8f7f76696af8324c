package io.github.pulsaroutbox.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

import java.util.List;
import java.util.Map;

/** Whether the receiving side is configured: a source, or a processor for the inbox. */
class ReceivingConfigured extends SpringBootCondition {

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        Binder binder = Binder.get(context.getEnvironment());
        boolean sources = !binder.bind(ReceivingProperties.PREFIX + ".sources", Bindable.mapOf(String.class,
                                                                                                 Object.class))
                                 .orElse(Map.of()).isEmpty();
        return sources || Inbox.configured(binder)
                ? ConditionOutcome.match("pulsar-outbox.receiving is configured")
                : ConditionOutcome.noMatch("no pulsar-outbox.receiving.sources or inbox processors");
    }

    /** Whether processors are listed for the inbox. */
    static class Inbox extends SpringBootCondition {

        static boolean configured(Binder binder) {
            return !binder.bind(ReceivingProperties.PREFIX + ".inbox.processors", Bindable.listOf(String.class))
                          .orElse(List.of()).isEmpty();
        }

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return configured(Binder.get(context.getEnvironment()))
                    ? ConditionOutcome.match("pulsar-outbox.receiving.inbox.processors is set")
                    : ConditionOutcome.noMatch("no pulsar-outbox.receiving.inbox.processors");
        }
    }
}
