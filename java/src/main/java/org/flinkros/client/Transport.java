/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

/** How a {@link RosClient}'s calls travel to an instance. */
@PublicEvolving
public enum Transport {
    /**
     * Over one long-lived HTTP/2 stream per instance, many requests to a message, each answered as
     * soon as its result is ready: a call costs a few bytes of a frame instead of an HTTP/2 stream
     * of its own. Requests over 64 KiB travel as unary calls. The default.
     */
    MULTIPLEXED,
    /** Each call is its own unary {@code Invoke}, the way outside gRPC clients call an instance. */
    UNARY
}
