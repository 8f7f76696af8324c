package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.inbox.Inbox;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The inbox interceptor of each processor listed in {@code pulsar-outbox.receiving.inbox.processors}, created once
 * when the application starts, so that the meters and the health indicator read the same counts the processors
 * update.
 */
final class InboxInterceptors {

    private final Map<String, InboxInterceptor> byProcessor = new LinkedHashMap<>();

    InboxInterceptors(Inbox inbox, Collection<String> processors) {
        processors.forEach(processor -> byProcessor.put(processor, new InboxInterceptor(inbox, processor)));
    }

    /** The interceptors by processing group, in the configured order. */
    Map<String, InboxInterceptor> byProcessor() {
        return byProcessor;
    }
}
